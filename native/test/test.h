// A minimal xUnit-style harness for the host tests (no third-party framework to install offline).
#pragma once

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace tedge::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

std::vector<Case>& registry();
void fail(const char* file, int line, const std::string& what);
/** Path of a fixture folder: `env` overrides the compile-time default. */
std::string fixture_dir(const char* env, const char* fallback);
std::string read_file(const std::string& path);
std::vector<std::string> list_files(const std::string& dir, const std::string& suffix);

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

template <typename A, typename B>
std::string describe(const A& a, const B& b) {
  std::ostringstream s;
  s << "\n    actual:   " << a << "\n    expected: " << b;
  return s.str();
}

}  // namespace tedge::test

#define TEST_CAT2(a, b) a##b
#define TEST_CAT(a, b) TEST_CAT2(a, b)
#define TEST(name)                                                                           \
  static void TEST_CAT(test_fn_, __LINE__)();                                                \
  static ::tedge::test::Registrar TEST_CAT(test_reg_, __LINE__)(name, TEST_CAT(test_fn_, __LINE__)); \
  static void TEST_CAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) ::tedge::test::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(actual, expected)                                                                       \
  do {                                                                                                   \
    const auto& a_ = (actual);                                                                           \
    const auto& e_ = (expected);                                                                         \
    if (!(a_ == e_))                                                                                     \
      ::tedge::test::fail(__FILE__, __LINE__, std::string("CHECK_EQ(" #actual ", " #expected ")") +      \
                                                  ::tedge::test::describe(a_, e_));                      \
  } while (0)

/** Adds context (e.g. the fixture name) to failures in the current scope. */
#define CONTEXT(text) ::tedge::test::Context TEST_CAT(ctx_, __LINE__)(text)

namespace tedge::test {
struct Context {
  explicit Context(std::string text);
  ~Context();
};
}  // namespace tedge::test
