// /proc/<pid>/maps lines → which mappings may be paged out (only clean file-backed ones), and one real
// madvise over this test process's own mappings.
#include <cerrno>

#include <cstring>
#include <string>

#include "resident_pages.h"
#include "test.h"

using tedge::MapsEntry;

TEST("resident pages: maps lines parse, and only readable non-writable file mappings are candidates") {
  struct Row {
    const char* line;
    bool parses;
    bool candidate;
  };
  const Row rows[] = {
      {"00400000-01c6f000 r-xp 00000000 08:01 1835099   /usr/bin/tedge", true, true},
      {"7f3c1a000000-7f3c1a021000 r--p 00000000 fd:00 42 /usr/lib/x86_64-linux-gnu/libc.so.6\n", true, true},
      {"0386b000-0386f000 rw-p 0166b000 08:01 1835099   /usr/bin/tedge", true, false},       // .data: process data
      {"7f00-8f00 r--s 00000000 08:01 77 /dev/shm/x", true, true},                          // shared read-only file
      {"02ac2000-02d05000 rw-p 00000000 00:00 0         [heap]", true, false},
      {"7ffd5c8e6000-7ffd5c8ea000 r--p 00000000 00:00 0 [vvar]", true, false},              // inode 0
      {"7f3c1a000000-7f3c1a021000 r--p 00000000 00:00 0 ", true, false},                    // anonymous
      {"00400000-01c6f000 r-xp 00000000 08:01 1835099 /usr/bin/tedge (deleted)", true, false},  // replaced by an upgrade
      {"7f00-8f00 ---p 00000000 08:01 77 /usr/lib/a.so", true, false},                      // guard
      {"00400000 r-xp 00000000 08:01 1835099 /usr/bin/tedge", false, false},
      {"00400000-01c6f000 r-xp", false, false},
      {"zz-01 r-xp 00000000 08:01 1 /x", false, false},
      {"", false, false},
  };
  for (const Row& row : rows) {
    CONTEXT(row.line);
    MapsEntry e;
    CHECK_EQ(tedge::parse_maps_line(row.line, e), row.parses);
    if (row.parses) CHECK_EQ(tedge::is_clean_file_mapping(e), row.candidate);
  }
  MapsEntry e;
  CHECK(tedge::parse_maps_line("00400000-01c6f000 r-xp 00001000 08:01 1835099   /usr/bin/tedge", e));
  CHECK_EQ(e.start, static_cast<uintptr_t>(0x400000));
  CHECK_EQ(e.end, static_cast<uintptr_t>(0x1c6f000));
  CHECK_EQ(e.inode, 1835099u);
  CHECK_EQ(std::string(e.path), std::string("/usr/bin/tedge"));
}

TEST("resident pages: advising this process's own mappings leaves its code and data working") {
  static char data[4096] = "written before";
  tedge::PageAdviceResult r = tedge::advise_own_clean_file_mappings(tedge::PageAdvice::Pageout);
  // EINVAL: a kernel without MADV_PAGEOUT (< 5.4) refuses each call, nothing else may fail.
  if (r.error != EINVAL) {
    CHECK_EQ(r.error, 0);
    CHECK(r.mappings > 0);
    CHECK(r.bytes > 0);
  }
  CHECK_EQ(std::strcmp(data, "written before"), 0);  // .data (rw-p) untouched
  tedge::PageAdviceResult none = tedge::advise_clean_file_mappings("02ac2000-02d05000 rw-p 00000000 00:00 0 [heap]\n", tedge::PageAdvice::Cold);
  CHECK_EQ(none.mappings, 0u);
  CHECK_EQ(none.error, 0);
}
