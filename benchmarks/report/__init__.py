"""From raw runs to the report: medians, ratios, Lambda cost, growth fits, targets, text, plots."""
