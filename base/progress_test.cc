#include "base/progress.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace igvmkit {
namespace {

constexpr ProgressTiming kNow{.delay = std::chrono::milliseconds(0),
                              .interval = std::chrono::milliseconds(0)};

// Everything readable on `fd` right now.
std::string drain(int fd) {
  std::string out;
  char buf[256];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1 || (p.revents & POLLIN) == 0) {
      return out;
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

TEST(Progress, Renders) {
  EXPECT_EQ(Progress::render("build out.igvm", 37, 100, 2.14), "build out.igvm: 37% 2.1 s");
  EXPECT_EQ(Progress::render("measure f", 0, 3, 1.0), "measure f: 0% 1.0 s");
  EXPECT_EQ(Progress::render("measure f", 5, 3, 1.0), "measure f: 100% 1.0 s");  // clamped
  EXPECT_EQ(Progress::render("x", 7, 0, 12.25), "x: 12.2 s");                   // no total
  // 64-bit totals do not overflow the percentage.
  EXPECT_EQ(Progress::render("x", uint64_t{1} << 40, uint64_t{1} << 41, 0), "x: 50% 0.0 s");
}

TEST(Progress, SilentIntoAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    Progress p("build", fds[1], kNow);
    EXPECT_FALSE(p.active());
    p.update(1, 2);
    p.update(2, 2);
    p.finish();
  }
  ::close(fds[1]);
  EXPECT_EQ(drain(fds[0]), "");
  ::close(fds[0]);
}

TEST(Progress, SilentIntoAFile) {
  std::string path = ::testing::TempDir() + "/progress_out";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  {
    Progress p("build", fd, kNow);
    EXPECT_FALSE(p.active());
    p.update(1, 2);
  }
  EXPECT_EQ(::lseek(fd, 0, SEEK_END), 0);
  ::close(fd);
}

TEST(Progress, DrawsAndErasesOnATerminal) {
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    GTEST_SKIP() << "SKIPPED PART: no pseudo-terminal here (openpty failed)";
  }
  {
    Progress p("build", slave, kNow);
    EXPECT_TRUE(p.active());
    p.update(1, 4);
    std::string drawn = drain(master);
    EXPECT_EQ(drawn.rfind("\rbuild: 25% ", 0), 0u) << drawn;
    EXPECT_NE(drawn.find("\x1b[K"), std::string::npos);
    p.finish();
    EXPECT_EQ(drain(master), "\r\x1b[K");
    p.update(2, 4);  // finished: nothing more
    EXPECT_EQ(drain(master), "");
  }
  EXPECT_EQ(drain(master), "");  // the destructor does not erase twice
  ::close(slave);
  ::close(master);
}

TEST(Progress, QuickWorkStaysSilentOnATerminal) {
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    GTEST_SKIP() << "SKIPPED PART: no pseudo-terminal here (openpty failed)";
  }
  {
    Progress p("build", slave);  // default: nothing before one second
    p.update(1, 2);
    p.update(2, 2);
  }
  EXPECT_EQ(drain(master), "");  // never drawn, so nothing to erase either
  ::close(slave);
  ::close(master);
}

}  // namespace
}  // namespace igvmkit
