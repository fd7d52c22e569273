//===- NpyFile.h - read and write numpy .npy files --------------*- C++ -*-===//
#ifndef QUANTC_SUPPORT_NPYFILE_H
#define QUANTC_SUPPORT_NPYFILE_H

#include "quantc/Support/HostTensor.h"

#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace quantc {
/// Reads a C-ordered little-endian .npy file (format 1.0-3.0).
llvm::Expected<cpu::HostTensor> readNpy(const std::string &path);
/// The same from memory; `path` names it in errors.
llvm::Expected<cpu::HostTensor> parseNpy(llvm::StringRef bytes, const std::string &path);
/// The arrays of an .npz archive (np.savez: uncompressed zip, zip64
/// sizes), by name without ".npy", in file order.
llvm::Expected<std::vector<std::pair<std::string, cpu::HostTensor>>>
readNpz(const std::string &path);
/// Writes `t` as a .npy file (format 1.0).
llvm::Error writeNpy(const std::string &path, const cpu::HostTensor &t);
} // namespace quantc

#endif
