// Text folding for rules. fold_case (conditions) is Unicode-wide, by ICU (case_fold.cpp). The template
// filters' case mapping and diacritic stripping cover ASCII, Latin-1 Supplement and Latin Extended-A
// (plus a few common extras); other characters pass through them.
#pragma once

#include <string>
#include <string_view>

namespace h2r {

// The caseless form of `utf8` for comparisons (rule conditions): Unicode full case folding (ICU, the
// default, not Turkic, mappings) between canonical decompositions, so "ПРОДАЖИ" and "продажи", "STRASSE"
// and "straße", "ΣΟΦΙΑ" and "σοφια", precomposed and decomposed "é" fold alike. Invalid UTF-8 bytes
// become U+FFFD. Not for display: the result is decomposed (NFD).
std::string fold_case(std::string_view utf8);

// Lower-case: ASCII, À..Þ → à..þ, and the Latin Extended-A pairs (Ł → ł, Ž → ž, ...).
std::string fold_lower(std::string_view utf8);
// Upper-case: the inverse mapping (ß stays ß).
std::string fold_upper(std::string_view utf8);
// Strips diacritics to plain ASCII: Zoë → Zoe, Ålund → Alund, ß → ss, Æ → AE, Łukasz → Lukasz,
// Øre → Ore; combining marks (U+0300..U+036F) are dropped; typographic quotes and dashes become ASCII.
// Characters with no ASCII form (e.g. CJK) are kept as they are.
std::string fold_ascii(std::string_view utf8);
// Removes leading and trailing ASCII white space.
std::string trim(std::string_view text);

} // namespace h2r
