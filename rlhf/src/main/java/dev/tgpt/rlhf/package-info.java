/** InstructGPT's pipeline on the engine: SFT, a reward model on K-way rankings, PPO(-ptx). Not built yet: see the RLHF issue. */
package dev.tgpt.rlhf;
