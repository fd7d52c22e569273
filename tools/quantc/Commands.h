//===- Commands.h - quantc subcommands kept in their own files ------------===//
#ifndef QUANTC_TOOLS_COMMANDS_H
#define QUANTC_TOOLS_COMMANDS_H

#include <string>
#include <vector>

namespace quantc::tool {

/// `quantc report PLAN.json -o REPORT.html [--markdown REPORT.md]`.
int runReport(const std::vector<std::string> &args);

} // namespace quantc::tool

#endif
