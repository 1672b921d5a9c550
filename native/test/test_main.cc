#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "test.h"

namespace tedge::test {

namespace {
int failures = 0;
bool current_failed = false;
std::vector<std::string> contexts;
}  // namespace

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

Context::Context(std::string text) { contexts.push_back(std::move(text)); }
Context::~Context() { contexts.pop_back(); }

void fail(const char* file, int line, const std::string& what) {
  current_failed = true;
  failures++;
  std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
  for (const auto& c : contexts) std::fprintf(stderr, "    in: %s\n", c.c_str());
}

std::string fixture_dir(const char* env, const char* fallback) {
  const char* v = std::getenv(env);
  return v && *v ? std::string(v) : std::string(fallback);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(__FILE__, __LINE__, "cannot read " + path);
    return std::string();
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> list_files(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tedge::test

int main(int argc, char** argv) {
  using namespace tedge::test;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int run = 0, failed = 0;
  for (const auto& c : registry()) {
    if (filter && std::string(c.name).find(filter) == std::string::npos) continue;
    current_failed = false;
    c.fn();
    run++;
    if (current_failed) {
      failed++;
      std::fprintf(stderr, "not ok - %s\n", c.name);
    } else {
      std::printf("ok - %s\n", c.name);
    }
  }
  std::printf("%d tests, %d failed (%d check failures)\n", run, failed, failures);
  return failed == 0 && run > 0 ? 0 : 1;
}
