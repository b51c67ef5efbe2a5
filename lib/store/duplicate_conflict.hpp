// An HR event_id that comes again with other content (issue 24 case 6). The same event_id with the
// same content is a silent duplicate (the same export sent twice, a file read again after a crash);
// with other content neither copy may win silently: the ingest fails `invalid`, so the inbox rejects
// the new file whole, and the stored event stays as it was.
#pragma once

#include "core/error.hpp"
#include "hr/event.hpp"

#include <string>

namespace h2r {

// The content of a stored event that an ingest compares with a new event of the same event_id.
struct StoredEventContent {
  std::string type;
  std::string leave_type;   // "" when none
  std::string employee_id;
  std::string fields;       // field_patch_json()
  std::string effective_raw;
  std::string source_file;
};

// "" when `event` has the stored event's content; otherwise the file's rejection, one line:
// "record 1 (line 1): field 'event_id': event_id 'evt-1' was stored before from a.json with other
// content: it differs in type (hire, now terminate), employee.department (...)". Field names only,
// never their values (personal data); bounded.
std::string duplicate_conflict(const StoredEventContent& stored, const HrEvent& event);

// duplicate_conflict() as the ingest's error: kind invalid (the file is rejected), logged as
// `event.duplicate_conflict`.
Unexpected<Error> duplicate_conflict_error(const std::string& conflict, const HrEvent& event,
                                           const std::string& file_name);

} // namespace h2r
