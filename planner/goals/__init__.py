"""Phase ``goals``: the vision, measurable goals and their KPIs, and later measurements."""
