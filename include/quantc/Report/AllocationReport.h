//===- AllocationReport.h - a bit allocation as HTML and Markdown -*- C++ -*-===//
//
// `quantc report PLAN.json`: the plan that qc-allocate-bits wrote
// (calib::allocationToJson) rendered for people.
//
// HTML: one self-contained file (no network, no external files): a summary,
// four inline SVG plots (every layer's sensitivity curve, estimated error
// against bits per weight over its candidates, with the chosen format
// marked; the chosen format and bytes per layer; each layer's share of the
// summed estimated error; the formats' totals) and a table of the layers
// that sorts by any column on a click (a few lines of inline script; a URL
// fragment `#sort=COLUMN` or `#sort=-COLUMN` sorts on load).
//
// Markdown: the summary, the formats' totals and the same layer table.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_REPORT_ALLOCATIONREPORT_H
#define QUANTC_REPORT_ALLOCATIONREPORT_H

#include "quantc/Calibration/Allocate.h"

#include <string>

namespace quantc::report {

struct ReportOptions {
  std::string title = "quantc bit allocation";
  std::string source; // where the plan came from (shown, escaped)
};

std::string allocationHTML(const calib::AllocationPlan &plan, const ReportOptions &options);
std::string allocationMarkdown(const calib::AllocationPlan &plan, const ReportOptions &options);

} // namespace quantc::report

#endif
