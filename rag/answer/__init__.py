"""Answering from retrieved passages: the extractive answerer and its refusal policy,
the LLM chain, prompts and citation verification."""
