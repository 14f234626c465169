// CHECK: always-on invariant checks (never used to validate input; that returns a Result).
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "trapetum: internal check failed at %s:%d: %s\n", __FILE__,   \
                   __LINE__, #cond);                                                     \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
