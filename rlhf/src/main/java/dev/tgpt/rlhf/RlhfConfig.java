package dev.tgpt.rlhf;

import java.nio.file.Path;

/**
 * The settings of the three steps, as {@code ./tgpt rlhf --config FILE} reads them (JSON, these field names; every
 * field has a default) and as the single-step commands fill them from their options. Paths are relative to the
 * working directory.
 */
public final class RlhfConfig {

    /** The pretrained model SFT starts from (a checkpoint or a Hugging Face GPT-2 directory). */
    public String model;
    /** Pretraining text (or an llm.c token file) for PPO-ptx and the pretraining loss; null: neither. */
    public String pretrainData;
    public String device = "auto";
    public Sft sft = new Sft();
    public Rm rm = new Rm();
    public Ppo ppo = new Ppo();
    public Dpo dpo = new Dpo();
    public Grpo grpo = new Grpo();

    /** DPO's settings, its data the reward model's when it names none. */
    public Dpo dpoSettings() {
        if (dpo.data == null) {
            dpo.data = rm.data;
        }
        return dpo;
    }

    public static final class Sft {
        /** {"prompt","completion"} lines. */
        public String data;
        public int steps = 300;
        public int batch = 16;
        public float lr = 3e-4f;
        public int warmup = 20;
        public float heldOut = 0.1f;
        public int evalEvery = 50;
        public long seed = 1;
    }

    public static final class Rm {
        /** {"prompt","chosen","rejected"} or {"prompt","ranking":[...]} lines. */
        public String data;
        public int steps = 300;
        /** Prompts per batch; each brings K responses. */
        public int prompts = 8;
        public float lr = 3e-4f;
        public int warmup = 20;
        public float heldOut = 0.1f;
        public int evalEvery = 50;
        public long seed = 2;
    }

    public static final class Ppo {
        /** The PPO-ptx γ of the demo: the pretraining loss weighs as much as the PPO objective (both are per-token means). */
        public static final float DEMO_PTX = 1f;
        /** {"prompt"} lines. */
        public String prompts;
        public int iterations = 40;
        public int rollouts = 32;
        public int batch = 16;
        public int epochs = 2;
        public int maxResponse = 40;
        public float lr = 2e-5f;
        public float valueLr = 1e-4f;
        public float clip = 0.2f;
        public float valueClip = 0.2f;
        public float gamma = 1f;
        public float lambda = 0.95f;
        /** The KL penalty's β; with targetKl, the adaptive controller's starting β. */
        public float beta = 0.05f;
        /** Ziegler et al.'s adaptive controller: the KL it steers to, and its horizon; null: a fixed β. */
        public Float targetKl;
        public int horizon = 10000;
        /** γ of PPO-ptx; 0: plain PPO. */
        public float ptx = 0f;
        public int evalEvery = 5;
        public int evalBatches = 4;
        public long seed = 3;

        KlController kl() {
            return targetKl == null ? new KlController.Fixed(beta) : new KlController.Adaptive(beta, targetKl, horizon);
        }
    }

    /** DPO from the SFT model on the reward model's data: pairs, or rankings counted as their pairs. */
    public static final class Dpo {
        /** {"prompt","chosen","rejected"} or {"prompt","ranking":[...]} lines; null: the reward model's. */
        public String data;
        public int steps = 200;
        /** Preference pairs per batch (two rows each). */
        public int pairs = 8;
        /** β: how far from the reference the policy may move (TRL's default). */
        public float beta = 0.1f;
        public float lr = 1e-5f;
        public int warmup = 10;
        public float heldOut = 0.1f;
        public int evalEvery = 50;
        public long seed = 4;
    }

    /** GRPO from the SFT model: G responses to each prompt, rewards relative to the group, no value model. */
    public static final class Grpo {
        /** {"prompt"} lines; null: PPO's. */
        public String prompts;
        /** "labeler" (the demo's programmatic labeler as a reward function); null: the reward model the pipeline trained. */
        public String reward;
        public int iterations = 40;
        /** Prompts per iteration (on each rank); each gets {@code group} responses. */
        public int promptsPerIteration = 8;
        public int group = 4;
        /** Rows per micro-batch: memory, not the objective. */
        public int batch = 16;
        /** Optimizer steps per iteration's responses (TRL's μ). */
        public int epochs = 1;
        public int maxResponse = 40;
        public float lr = 2e-5f;
        public float clip = 0.2f;
        /** The KL penalty's β (TRL's default 0.04). */
        public float beta = 0.04f;
        /** β·KL subtracted from each response's reward, instead of a penalty in the loss. */
        public boolean klInReward;
        public int evalEvery = 5;
        public long seed = 5;
    }

    /** GRPO's settings, its prompts PPO's when it names none. */
    public Grpo grpoSettings() {
        if (grpo.prompts == null) {
            grpo.prompts = ppo.prompts;
        }
        return grpo;
    }

    /**
     * How much faster the demo's adapters learn than full fine-tuning: LoRA is usually run at ~10× the full rate (at the
     * same rates the tiny demo's GRPO moved 0.01 nats from SFT; at 3×, 30× and 10× of every rate its policies came
     * closest to full fine-tuning's scores and KL at 10×, README's table).
     */
    static final float LORA_LR_FACTOR = 10f;

    /** The demo's settings: its data files, the step counts of its size, and rates for adapters under LoRA. */
    static RlhfConfig demo(Demo.Size size, Path data, boolean lora) {
        RlhfConfig c = new RlhfConfig();
        c.sft.data = data.resolve("sft.jsonl").toString();
        c.sft.steps = size.sftSteps();
        c.rm.data = data.resolve("rm.jsonl").toString();
        c.rm.steps = size.rmSteps();
        c.ppo.prompts = data.resolve("prompts.jsonl").toString();
        c.ppo.iterations = size.ppoIterations();
        c.ppo.maxResponse = Demo.MAX_RESPONSE;
        // small models move little at InstructGPT's rates in a few iterations
        c.ppo.lr = 1e-4f;
        // DPO learns from the reward model's rankings (as their pairs), as many steps as the reward model takes
        c.dpo.data = c.rm.data;
        c.dpo.steps = size.rmSteps();
        c.dpo.lr = 1e-4f;
        // GRPO sees as many responses per iteration as PPO (8 prompts × 4), at PPO's rate, against the same reward model
        c.grpo.prompts = c.ppo.prompts;
        c.grpo.iterations = size.ppoIterations();
        c.grpo.maxResponse = Demo.MAX_RESPONSE;
        c.grpo.lr = 1e-4f;
        if (lora) {
            c.rm.lr *= LORA_LR_FACTOR;
            c.ppo.lr *= LORA_LR_FACTOR;
            c.ppo.valueLr *= LORA_LR_FACTOR;
            c.dpo.lr *= LORA_LR_FACTOR;
            c.grpo.lr *= LORA_LR_FACTOR;
        }
        return c;
    }
}
