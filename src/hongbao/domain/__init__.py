"""Pure rules of hongbao: money, splits, the ledger, packets, errors. Standard library only."""
