/**
 * InstructGPT's pipeline on the engine: SFT, a reward model on K-way rankings, PPO(-ptx). Host-side parts so far: the
 * data sets ({@code data.RlhfData}), PPO's rewards, GAE and whitening ({@link dev.tgpt.rlhf.Advantages}), the KL
 * coefficient ({@link dev.tgpt.rlhf.KlController}), and the demo's programmatic labeler and data
 * ({@link dev.tgpt.rlhf.Labeler}, {@link dev.tgpt.rlhf.DemoData}). The device-side training is still to come.
 */
package dev.tgpt.rlhf;
