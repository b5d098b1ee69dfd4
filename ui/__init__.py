"""The Gradio chat UI (`rag serve`): chat, sources, articles, uploads, inspector."""
