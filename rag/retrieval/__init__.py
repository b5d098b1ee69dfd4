"""Finding passages: BM25, dense search, fusion, question-aware rescoring."""
