"""Ingestion: read pages, remove furniture, chunk on sentences, embed, store."""
