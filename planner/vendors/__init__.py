"""Phase ``vendors``: candidate vendors, weighted criteria, a blind cross-department scoring
board with a fair process, the results and their robustness, the decision and the contract."""
