#include "core/secret.hpp"

#include <openssl/crypto.h>

namespace h2r {

Secret::~Secret() {
  if (!m_value.empty()) OPENSSL_cleanse(m_value.data(), m_value.size());
}

} // namespace h2r
