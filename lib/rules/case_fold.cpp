// fold_case and fold_any_ascii (text_fold.hpp) over ICU: the one place lib/rules calls ICU.
#include "rules/text_fold.hpp"

#include "core/text.hpp"

#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <utility>

namespace h2r {

namespace {

icu::UnicodeString to_unicode(std::string_view utf8) {
  // Field values are far below 2 GiB (the readers cap them); a longer text is taken in its first 2 GiB.
  const auto length = static_cast<std::int32_t>(std::min<std::size_t>(utf8.size(), INT32_MAX));
  return icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), length));
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

} // namespace

std::string fold_any_ascii(std::string_view utf8) {
  if (is_ascii(utf8)) return std::string(utf8);
  // One transliterator per thread: built once (it compiles rules), then used without sharing it.
  thread_local const std::unique_ptr<icu::Transliterator> transliterator = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(
        icu::Transliterator::createInstance("Any-Latin; Latin-ASCII", UTRANS_FORWARD, status));
    return U_SUCCESS(status) ? std::move(t) : nullptr;
  }();
  if (!transliterator) return fold_ascii(utf8);  // without ICU's data (never on a Debian install)
  icu::UnicodeString text = to_unicode(utf8);
  transliterator->transliterate(text);
  std::string out;
  text.toUTF8String(out);
  return out;
}

std::string fold_case(std::string_view utf8) {
  if (is_ascii(utf8)) {
    return ascii_lower(std::string(utf8));  // ASCII: folding is lower-casing, and NFD changes nothing
  }
  icu::UnicodeString text = to_unicode(utf8);
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
