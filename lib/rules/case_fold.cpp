// fold_case (text_fold.hpp) over ICU: the one place lib/rules calls ICU.
#include "rules/text_fold.hpp"

#include "core/text.hpp"

#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <climits>
#include <utility>

namespace h2r {

std::string fold_case(std::string_view utf8) {
  if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return ascii_lower(std::string(utf8));  // ASCII: folding is lower-casing, and NFD changes nothing
  }
  // Field values are far below 2 GiB (the readers cap them); a longer text is folded in its first 2 GiB.
  const auto length = static_cast<std::int32_t>(std::min<std::size_t>(utf8.size(), INT32_MAX));
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), length));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  const auto decompose = [&] {  // without ICU's data (never on a Debian install): left as it is
    if (U_FAILURE(status)) return;
    icu::UnicodeString d = nfd->normalize(text, status);
    if (U_SUCCESS(status)) text = std::move(d);
  };
  decompose();
  text.foldCase(U_FOLD_CASE_DEFAULT);
  decompose();
  std::string out;
  text.toUTF8String(out);
  return out;
}

} // namespace h2r
