//===- CompareOrt.cpp - ONNX Runtime's latency on the same inputs ---------===//
//
// `quantc bench --compare-ort`: ONNX Runtime (a Python package here) runs
// in a child process (python/quantc/ort_bench.py) on the inputs quantc
// is timed with, written as .npy files, with the same thread count. The
// child loads the model once and then times blocks of runs on request,
// so that the bench can alternate its own blocks with ONNX Runtime's.
//
//===----------------------------------------------------------------------===//
#include "quantc/Driver/Run.h"
#include "quantc/Support/NpyFile.h"
#include "quantc/Driver/Samples.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace quantc::driver {

std::string pythonDir() {
  if (const char *env = getenv("QUANTC_PYTHONPATH"); env && *env)
    return env;
  return QUANTC_PYTHON_DIR;
}

std::optional<std::string> findPython(const std::string &what, llvm::raw_ostream &err) {
  const char *py = getenv("QUANTC_PYTHON");
  std::string python = py && *py ? py : "python3";
  auto found = llvm::sys::findProgramByName(python);
  if (!found) {
    err << "quantc: error: cannot find the Python interpreter '" << python << "' for " << what
        << " (set QUANTC_PYTHON)\n";
    return std::nullopt;
  }
  return *found;
}

bool checkOrtModel(const std::string &ortModel, llvm::raw_ostream &err) {
  if (!llvm::StringRef(ortModel).ends_with(".onnx")) {
    err << "quantc: error: --compare-ort needs an .onnx model (or --ort-model FILE.onnx), not '"
        << ortModel << "'\n";
    return false;
  }
  if (!llvm::sys::fs::exists(ortModel)) {
    err << "quantc: error: --ort-model '" << ortModel << "' does not exist\n";
    return false;
  }
  return true;
}

std::unique_ptr<OrtTimer> OrtTimer::start(const std::string &ortModel, int threads, int warmup,
                                          const std::vector<cpu::HostTensor> &inputs,
                                          llvm::raw_ostream &err) {
  if (!checkOrtModel(ortModel, err))
    return nullptr;
  auto python = findPython("--compare-ort", err);
  if (!python)
    return nullptr;
  std::unique_ptr<OrtTimer> t(new OrtTimer());
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("quantc-bench", dir)) {
    err << "quantc: error: cannot create a temporary directory: " << ec.message() << "\n";
    return nullptr;
  }
  t->dir = std::string(dir);
  std::vector<std::string> argv = {*python, pythonDir() + "/quantc/ort_bench.py", ortModel,
                                   std::to_string(threads), std::to_string(warmup)};
  for (const auto &in : inputs) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, fileNameFor(in.name) + ".npy");
    if (auto e = writeNpy(std::string(path), in)) {
      err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
      return nullptr;
    }
    argv.push_back(in.name + "=" + std::string(path));
  }
  int down[2], up[2]; // down: parent -> child's stdin; up: child's stdout -> parent
  if (pipe(down) != 0 || pipe(up) != 0) {
    err << "quantc: error: cannot create a pipe to ONNX Runtime's process\n";
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, down[0], 0);
  posix_spawn_file_actions_adddup2(&actions, up[1], 1);
  for (int fd : {down[0], down[1], up[0], up[1]})
    posix_spawn_file_actions_addclose(&actions, fd);
  std::vector<char *> cargv;
  for (auto &a : argv)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int rc = posix_spawn(&t->pid, python->c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(down[0]);
  close(up[1]);
  t->toChild = down[1];
  t->fromChild = fdopen(up[0], "r");
  if (rc != 0 || !t->fromChild) {
    t->pid = rc != 0 ? -1 : t->pid;
    err << "quantc: error: cannot start ONNX Runtime's process (" << *python << ")\n";
    return nullptr;
  }
  // A child that dies must not kill this process when it writes the next
  // request: the write fails instead, and the read reports the exit.
  std::signal(SIGPIPE, SIG_IGN);
  std::string line;
  if (!t->readLine(line) || !llvm::StringRef(line).starts_with("ready")) {
    t->reportExit(err);
    return nullptr;
  }
  llvm::SmallVector<llvm::StringRef> fields;
  llvm::StringRef(line).trim().split(fields, ' ');
  for (llvm::StringRef f : fields) {
    auto [k, v] = f.split('=');
    if (k == "ort_version")
      t->version_ = v.str();
    if (k == "ort_load_s")
      v.getAsDouble(t->loadSeconds_);
  }
  return t;
}

bool OrtTimer::readLine(std::string &line) {
  line.clear();
  char *buf = nullptr;
  size_t cap = 0;
  ssize_t n = getline(&buf, &cap, fromChild);
  if (n > 0)
    line.assign(buf, static_cast<size_t>(n));
  free(buf);
  return n > 0;
}

void OrtTimer::reportExit(llvm::raw_ostream &err) {
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid) {
    pid = -1;
    err << "quantc: error: ONNX Runtime failed ("
        << (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                              : "signal " + std::to_string(WTERMSIG(status)))
        << "; its messages are above)\n";
    return;
  }
  err << "quantc: error: ONNX Runtime's process stopped answering\n";
}

std::optional<std::vector<double>> OrtTimer::time(int runs, llvm::raw_ostream &err) {
  std::string request = std::to_string(runs) + "\n", line;
  if (write(toChild, request.data(), request.size()) != static_cast<ssize_t>(request.size()) ||
      !readLine(line)) {
    reportExit(err);
    return std::nullopt;
  }
  std::vector<double> times;
  llvm::SmallVector<llvm::StringRef> fields;
  llvm::StringRef(line).trim().split(fields, ' ', -1, false);
  for (llvm::StringRef f : fields) {
    double v = 0;
    if (f.getAsDouble(v)) {
      err << "quantc: error: ONNX Runtime's process answered '" << llvm::StringRef(line).trim()
          << "', not " << runs << " latencies\n";
      return std::nullopt;
    }
    times.push_back(v);
  }
  if (static_cast<int>(times.size()) != runs) {
    err << "quantc: error: ONNX Runtime's process gave " << times.size() << " latencies for "
        << runs << " runs\n";
    return std::nullopt;
  }
  return times;
}

OrtTimer::~OrtTimer() {
  if (toChild >= 0) {
    (void)!write(toChild, "quit\n", 5);
    close(toChild);
  }
  if (fromChild)
    fclose(fromChild);
  if (pid > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
  if (!dir.empty())
    llvm::sys::fs::remove_directories(dir);
}

} // namespace quantc::driver
