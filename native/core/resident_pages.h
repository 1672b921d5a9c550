// Giving the kernel back the clean, file-backed pages of this process once start-up is over.
//
// An idle Node single executable keeps ~25 MiB of the node binary's code and read-only data resident
// only because start-up touched them. madvise(MADV_PAGEOUT) on the read-only file mappings drops them
// from RSS (they come back from the file on the next access); MADV_COLD only moves them to the
// inactive list, for the kernel to reclaim first under pressure. Writable and anonymous mappings are
// never touched: their pages are the process's data. Pages shared with another process are skipped by
// the kernel itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tedge {

/** One line of /proc/<pid>/maps. */
struct MapsEntry {
  uintptr_t start = 0;
  uintptr_t end = 0;
  char perms[4] = {'-', '-', '-', '-'};  // r w x p|s
  uint64_t inode = 0;
  std::string_view path;  // empty for anonymous mappings; "[heap]", "[stack]"... for special ones
};

/** Parses "start-end perms offset dev inode [path]"; false when the line is not of that form. */
bool parse_maps_line(std::string_view line, MapsEntry& out);

/** A private or shared mapping of a file (inode != 0, absolute path) that is readable and not writable. */
bool is_clean_file_mapping(const MapsEntry& e);

enum class PageAdvice { Pageout, Cold };

struct PageAdviceResult {
  size_t mappings = 0;  // mappings advised
  size_t bytes = 0;     // their total size (not what was resident)
  int error = 0;        // errno of the first failure (EINVAL: kernel < 5.4 has no MADV_PAGEOUT/COLD), 0 if none
};

/** Advises every clean file mapping listed in `maps` (the text of /proc/self/maps). */
PageAdviceResult advise_clean_file_mappings(std::string_view maps, PageAdvice advice);

/** Reads /proc/self/maps and advises as above; error = errno of the read when it fails. */
PageAdviceResult advise_own_clean_file_mappings(PageAdvice advice);

}  // namespace tedge
