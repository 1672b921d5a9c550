#include "resident_pages.h"

#include <cerrno>
#include <cstdio>

#include <sys/mman.h>

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace tedge {
namespace {

bool parse_hex(std::string_view& s, uint64_t& out) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < s.size() && i < 16; i++) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else break;
    v = v << 4 | d;
  }
  if (i == 0) return false;
  out = v;
  s.remove_prefix(i);
  return true;
}

bool parse_dec(std::string_view& s, uint64_t& out) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < s.size() && i < 20 && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  if (i == 0) return false;
  out = v;
  s.remove_prefix(i);
  return true;
}

bool skip(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
}

// The non-space token at the front of s.
std::string_view token(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && s[i] != ' ') i++;
  std::string_view t = s.substr(0, i);
  s.remove_prefix(i);
  return t;
}

}  // namespace

bool parse_maps_line(std::string_view line, MapsEntry& out) {
  uint64_t start = 0, end = 0, inode = 0, ignored = 0;
  if (!parse_hex(line, start) || !skip(line, '-') || !parse_hex(line, end) || !skip(line, ' ')) return false;
  if (line.size() < 5 || line[4] != ' ') return false;
  for (int i = 0; i < 4; i++) out.perms[i] = line[static_cast<size_t>(i)];
  line.remove_prefix(5);
  if (!parse_hex(line, ignored) || !skip(line, ' ')) return false;  // offset
  if (token(line).empty() || !skip(line, ' ')) return false;        // device, major:minor
  if (!parse_dec(line, inode)) return false;
  skip_spaces(line);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  if (end < start) return false;
  out.start = static_cast<uintptr_t>(start);
  out.end = static_cast<uintptr_t>(end);
  out.inode = inode;
  out.path = line;
  return true;
}

bool is_clean_file_mapping(const MapsEntry& e) {
  // " (deleted)": the file was replaced (an upgrade in progress): its pages could not be read back.
  constexpr std::string_view deleted = " (deleted)";
  bool gone = e.path.size() >= deleted.size() && e.path.substr(e.path.size() - deleted.size()) == deleted;
  return e.perms[0] == 'r' && e.perms[1] == '-' && e.inode != 0 && !e.path.empty() && e.path[0] == '/' && !gone &&
         e.end > e.start;
}

PageAdviceResult advise_clean_file_mappings(std::string_view maps, PageAdvice advice) {
  PageAdviceResult r;
  const int how = advice == PageAdvice::Pageout ? MADV_PAGEOUT : MADV_COLD;
  while (!maps.empty()) {
    size_t nl = maps.find('\n');
    std::string_view line = maps.substr(0, nl);
    maps.remove_prefix(nl == std::string_view::npos ? maps.size() : nl + 1);
    MapsEntry e;
    if (!parse_maps_line(line, e) || !is_clean_file_mapping(e)) continue;
    if (madvise(reinterpret_cast<void*>(e.start), e.end - e.start, how) != 0) {
      if (r.error == 0) r.error = errno;
      continue;
    }
    r.mappings++;
    r.bytes += e.end - e.start;
  }
  return r;
}

PageAdviceResult advise_own_clean_file_mappings(PageAdvice advice) {
  // Read whole before advising: growing the string while walking could itself add a mapping.
  std::string maps;
  FILE* f = std::fopen("/proc/self/maps", "re");
  if (f == nullptr) {
    PageAdviceResult r;
    r.error = errno;
    return r;
  }
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) maps.append(buf, n);
  std::fclose(f);
  return advise_clean_file_mappings(maps, advice);
}

}  // namespace tedge
