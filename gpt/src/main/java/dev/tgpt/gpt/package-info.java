/**
 * GPT-1/2/3-style decoders: what to compute (the engine decides where), pretraining, fine-tuning, sampling,
 * tokenizers, checkpoints and GPT-2 weight import. Not built yet: see the GPT issue.
 */
package dev.tgpt.gpt;
