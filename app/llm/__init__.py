"""Model engines: llama.cpp chat, embeddings, the token budget."""
