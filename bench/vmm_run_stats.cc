// bench/vmm_run_stats: runs one VMM process (igvmkit run, qemu-system-x86_64, ...) and reports its
// wall time from fork to exit, its CPU time and, with --trace, its memory at the moment it exits.
//
//   vmm_run_stats [--trace] [--guest-ram BYTES] -- COMMAND ARGS...
//
// Prints one line to stderr, after the command's own output:
//   vmm_run_stats: exit N wall_us W user_us U sys_us S [hwm_kib H rss_kib R anon_kib A file_kib F
//   shmem_kib M guest_ram_kib G]
// and exits with the command's exit status (128 + signal if it was killed).
//
// Memory (--trace): the command runs under ptrace with PTRACE_O_TRACEEXIT, so its thread-group
// leader stops inside exit, after the guest has ended but before the address space is torn down.
// At that stop the tool reads /proc/PID/status: VmHWM (peak RSS) and VmRSS with its RssAnon /
// RssFile / RssShmem split. Guest RAM is every read-write mapping of at least --guest-ram bytes
// (QEMU: anonymous private; igvmkit: MAP_SHARED|MAP_ANONYMOUS, shown as "/dev/zero (deleted)"),
// and guest_ram_kib is the largest sum of their Rss seen: /proc/PID/smaps is sampled every
// millisecond while the command runs and once more at the exit stop (igvmkit unmaps guest RAM
// before it exits; QEMU does not). Only pages the guest or the VMM touched are resident, so that is
// the guest RAM the process really holds. Only the leader is traced (no PTRACE_O_TRACECLONE), so
// vCPU threads run as usual; tracing and sampling cost CPU, so take times from runs without
// --trace.
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Memory {
  long hwm_kib = -1, rss_kib = -1, anon_kib = -1, file_kib = -1, shmem_kib = -1;
  long guest_ram_kib = 0;
};

long statusField(const std::string& status, const char* name) {
  std::istringstream in(status);
  std::string line;
  const size_t n = std::strlen(name);
  while (std::getline(in, line)) {
    if (line.compare(0, n, name) == 0 && line.size() > n && line[n] == ':') {
      return std::strtol(line.c_str() + n + 1, nullptr, 10);
    }
  }
  return -1;
}

long guestRamKib(pid_t pid, uint64_t guest_ram_bytes) {
  long kib = 0;
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  bool guest_ram = false;
  while (std::getline(smaps, line)) {
    uint64_t lo = 0, hi = 0, offset = 0, inode = 0;
    char perms[8] = {};
    unsigned major = 0, minor = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64, &lo,
                    &hi, perms, &offset, &major, &minor, &inode) == 7) {
      guest_ram = guest_ram_bytes != 0 && perms[0] == 'r' && perms[1] == 'w' &&
                  hi - lo >= guest_ram_bytes;
    } else if (guest_ram && line.compare(0, 4, "Rss:") == 0) {
      kib += std::strtol(line.c_str() + 4, nullptr, 10);
    }
  }
  return kib;
}

Memory readMemory(pid_t pid, uint64_t guest_ram_bytes) {
  Memory m;
  std::ifstream status_file("/proc/" + std::to_string(pid) + "/status");
  std::stringstream status;
  status << status_file.rdbuf();
  m.hwm_kib = statusField(status.str(), "VmHWM");
  m.rss_kib = statusField(status.str(), "VmRSS");
  m.anon_kib = statusField(status.str(), "RssAnon");
  m.file_kib = statusField(status.str(), "RssFile");
  m.shmem_kib = statusField(status.str(), "RssShmem");
  m.guest_ram_kib = guestRamKib(pid, guest_ram_bytes);
  return m;
}

long micros(const timeval& t) { return t.tv_sec * 1000000L + t.tv_usec; }

}  // namespace

int main(int argc, char** argv) {
  bool trace = false;
  uint64_t guest_ram_bytes = 0;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--trace") == 0) {
      trace = true;
    } else if (std::strcmp(argv[i], "--guest-ram") == 0 && i + 1 < argc) {
      guest_ram_bytes = std::strtoull(argv[++i], nullptr, 0);
    } else {
      std::fprintf(stderr, "usage: vmm_run_stats [--trace] [--guest-ram BYTES] -- COMMAND...\n");
      return 2;
    }
  }
  if (i + 1 >= argc) {
    std::fprintf(stderr, "usage: vmm_run_stats [--trace] [--guest-ram BYTES] -- COMMAND...\n");
    return 2;
  }
  char** command = argv + i + 1;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("vmm_run_stats: fork");
    return 2;
  }
  if (pid == 0) {
    if (trace && ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
      std::perror("vmm_run_stats: PTRACE_TRACEME");
      _exit(127);
    }
    execvp(command[0], command);
    std::fprintf(stderr, "vmm_run_stats: cannot run %s: %s\n", command[0], std::strerror(errno));
    _exit(127);
  }
  Memory memory;
  bool have_memory = false;
  int status = 0;
  rusage usage{};
  long guest_ram_max = 0;
  for (;;) {
    const pid_t got = wait4(pid, &status, trace ? WNOHANG : 0, &usage);
    if (got < 0) {
      std::perror("vmm_run_stats: wait4");
      return 2;
    }
    if (got == 0) {  // --trace, still running: sample the guest RAM
      guest_ram_max = std::max(guest_ram_max, guestRamKib(pid, guest_ram_bytes));
      usleep(1000);
      continue;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      break;
    }
    if (!WIFSTOPPED(status)) {
      continue;
    }
    int deliver = WSTOPSIG(status);
    if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
      memory = readMemory(pid, guest_ram_bytes);
      memory.guest_ram_kib = std::max(memory.guest_ram_kib, guest_ram_max);
      have_memory = true;
      deliver = 0;
    } else if (deliver == SIGTRAP) {  // the stop after execve: ask for the exit stop
      ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
      deliver = 0;
    }
    ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(deliver)));
  }
  const auto end = std::chrono::steady_clock::now();
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::fprintf(stderr, "vmm_run_stats: exit %d wall_us %ld user_us %ld sys_us %ld", exit_code,
               static_cast<long>(
                   std::chrono::duration_cast<std::chrono::microseconds>(end - start).count()),
               micros(usage.ru_utime), micros(usage.ru_stime));
  if (have_memory) {
    std::fprintf(stderr,
                 " hwm_kib %ld rss_kib %ld anon_kib %ld file_kib %ld shmem_kib %ld "
                 "guest_ram_kib %ld",
                 memory.hwm_kib, memory.rss_kib, memory.anon_kib, memory.file_kib,
                 memory.shmem_kib, memory.guest_ram_kib);
  }
  std::fprintf(stderr, "\n");
  return exit_code;
}
