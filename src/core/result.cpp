#include "core/result.h"

namespace prescale::core {

std::string echo(std::string_view value, std::size_t limit) {
  if (value.size() <= limit) return "'" + std::string(value) + "'";
  std::size_t cut = limit;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so the cut starts no broken sequence.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(value.substr(0, cut)) + "\xE2\x80\xA6(" + std::to_string(value.size()) +
         " bytes)'";
}

}  // namespace prescale::core
