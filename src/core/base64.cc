#include "core/base64.h"

#include <array>
#include <cstdint>

namespace scigate {

std::string base64_encode(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(a[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(a[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

namespace {

using DecodeTable = std::array<int, 256>;

DecodeTable decode_table(const char* alphabet) {
  DecodeTable t{};
  t.fill(-1);
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  return t;
}

bool decode_with(const DecodeTable& table, std::string_view in, std::string& out) {
  out.clear();
  int bits = 0;
  uint32_t acc = 0;  // only the low `bits` bits are pending; masked so it never overflows
  for (unsigned char c : in) {
    int v = table[c];
    if (v < 0) return false;
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) {
  static const DecodeTable table = decode_table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  return decode_with(table, in, out);
}

bool base64_decode(std::string_view in, std::string& out) {
  static const DecodeTable table = decode_table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  if (!in.empty() && in.size() % 4 == 0) {  // padded: at most two '=' at the very end
    size_t pad = in.back() == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
    in.remove_suffix(pad);
  }
  if (in.size() % 4 == 1) return false;  // no byte count encodes to this many characters
  return decode_with(table, in, out);
}

}  // namespace scigate
