// Text folding for rules. fold_case (conditions) is Unicode-wide, by ICU (case_fold.cpp). The template
// filters' case mapping and diacritic stripping cover ASCII, Latin-1 Supplement and Latin Extended-A
// (plus a few common extras); other characters pass through them.
#pragma once

#include <cstddef>
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
// Any script to plain ASCII by ICU's transliterators "Any-Latin; Latin-ASCII" (the template filter
// fold): "Ελένη" → "Elene", "Дмитрий" → "Dmitrij", "Zoë" → "Zoe", precomposed or decomposed alike.
// Invalid UTF-8 bytes become U+FFFD first; what has no ASCII form (emoji, U+FFFD) is kept. Without
// ICU's transliteration data, fold_ascii.
std::string fold_any_ascii(std::string_view utf8);
// Code point substrings (the template filters left, right, mid): never split a UTF-8 sequence; an
// invalid byte counts as one code point. `start` counts from 0.
std::string utf8_left(std::string_view utf8, std::size_t count);
std::string utf8_right(std::string_view utf8, std::size_t count);
std::string utf8_mid(std::string_view utf8, std::size_t start, std::size_t count);
// Removes leading and trailing ASCII white space.
std::string trim(std::string_view text);

} // namespace h2r
