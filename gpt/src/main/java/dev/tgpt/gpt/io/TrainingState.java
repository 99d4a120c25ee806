package dev.tgpt.gpt.io;

import dev.tgpt.gpt.Parameters;

/**
 * What a training run needs beyond the weights to resume exactly where it stopped.
 *
 * @param step        optimizer steps taken
 * @param m           AdamW's first moments, tensor for tensor like the parameters
 * @param v           AdamW's second moments
 * @param dataRng     the data loader's random state ({@link dev.tgpt.gpt.data.Batches#state()})
 * @param dropoutSeed the counter that seeds each step's dropout masks
 */
public record TrainingState(long step, Parameters m, Parameters v, long dataRng, long dropoutSeed) {
}
