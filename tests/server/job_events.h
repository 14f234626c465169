// Test helper for the server's engine: a job's events collected until it ends.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "server/engine.h"

namespace trapetum::server {

struct Done {
  std::string text;  // every kText event, joined
  Event last;        // the event that ended the job
};

// Collects a job's events until it ends (or 60 s pass, a test failure).
inline Done drain(Job& job) {
  Done d;
  for (int waited = 0; waited < 600;) {
    Event e;
    if (!job.next(&e, 100)) {
      ++waited;
      continue;
    }
    if (e.kind == Event::Kind::kStarted) continue;
    if (e.kind == Event::Kind::kText) {
      d.text += e.text;
      continue;
    }
    d.last = e;
    return d;
  }
  ADD_FAILURE() << "the job did not finish";
  return d;
}

}  // namespace trapetum::server
