// The caf-test runner's main(). Suites live in the other files of this folder,
// one suite per file, named like the file.
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>

int main(int argc, char** argv) {
  return caf::test::main(argc, argv);
}
