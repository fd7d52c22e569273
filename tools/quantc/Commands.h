//===- Commands.h - quantc subcommands kept in their own files ------------===//
#ifndef QUANTC_TOOLS_COMMANDS_H
#define QUANTC_TOOLS_COMMANDS_H

#include <string>
#include <vector>

namespace quantc::tool {

/// `quantc report PLAN.json -o REPORT.html [--markdown REPORT.md]
/// [--title T]`.
struct ReportOptions {
  std::string plan, html, markdown, title;
};
int runReport(const ReportOptions &options);

} // namespace quantc::tool

#endif
