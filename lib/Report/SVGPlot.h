//===- SVGPlot.h - axes of an inline SVG plot -----------------------------===//
//
// A plot area in an SVG element: data ranges mapped to pixels, a grid,
// ticks at 1/2/5 x 10^k steps (or every decade when y holds log10 values),
// axis labels. The caller draws the marks between begin() and end().
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_REPORT_SVGPLOT_H
#define QUANTC_REPORT_SVGPLOT_H

#include <ostream>
#include <string>
#include <vector>

namespace quantc::report {

class SVGPlot {
public:
  SVGPlot(double width, double height, std::string xLabel, std::string yLabel);
  /// Data ranges; with logY the y values given to sy() are log10 of the
  /// quantity and the ticks read 1e-5, 1e-4, ...
  void setRange(double xmin, double xmax, double ymin, double ymax, bool logY);
  double sx(double x) const;
  double sy(double y) const;
  /// `<svg>` with the grid, axes, ticks and labels; `id` names the element.
  void begin(std::ostream &os, const char *id) const;
  void end(std::ostream &os) const;

  /// Tick positions covering [lo, hi] at a 1/2/5 x 10^k step (about
  /// `target` of them).
  static std::vector<double> ticks(double lo, double hi, int target);

private:
  double width_, height_;
  double left_ = 70, right_ = 16, top_ = 12, bottom_ = 42;
  double xmin_ = 0, xmax_ = 1, ymin_ = 0, ymax_ = 1;
  bool logY_ = false;
  std::string xLabel_, yLabel_;
};

} // namespace quantc::report

#endif
