// Checks with context for caf-test 0.17, which has no *_MESSAGE variants: the
// condition is evaluated once; on failure the context is printed. Include after
// the caf-test header.
#pragma once

#define CHECK_MSG(cond, msg)                                                                       \
  do {                                                                                             \
    bool check_ok_ = static_cast<bool>(cond);                                                      \
    if (!check_ok_)                                                                                \
      CAF_ERROR(#cond << ": " << msg);                                                             \
    else                                                                                           \
      CAF_CHECK(check_ok_);                                                                        \
  } while (false)

#define REQUIRE_MSG(cond, msg)                                                                     \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      CAF_FAIL(#cond << ": " << msg);                                                              \
  } while (false)
