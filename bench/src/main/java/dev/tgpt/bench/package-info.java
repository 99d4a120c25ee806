/** Benchmarks of kernels and models on every device, beside OpenBLAS, PyTorch and llm.c. */
package dev.tgpt.bench;
