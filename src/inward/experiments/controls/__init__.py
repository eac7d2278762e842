"""The control battery: what a self-prediction advantage must beat before it counts as privileged access.

Each control is one experiment module (`inward.experiments.base`) whose section is a `ControlSection`: the target
(the self-trained M1 by default, `controls.target`) predicting itself, beside the predictors the control sets up,
all scored against the same behaviour on the same held-out prompts, each with an item-clustered paired test. Its
claims go into the evidence table as "M1 predicts itself better than <predictor>", so the verdict on privileged
access is read off one table, control by control. ../shared/research/CONTROLS.md lists them with their sources.

    sibling           M1's own base fine-tuned on the self-trained M1's behaviour (and a seed sibling)
    input_only        no language model: the mode on the training distribution, a classifier over the prompt
    in_context        an untrained third party with k of M1's (hypothetical → property) pairs in context
    response_in_context  the hypothetical shows the object-level answer: property extraction alone (SPEC §14)
    paraphrase        every hypothetical reworded three ways; the verdict per wording
    snapshot          cross-predictors trained on the untrained M1's behaviour beside the self-trained M1's
    cross_scaling     the cross-predictor on 25/50/100% of its pairs (the paper's Fig. 17)

Data hygiene (no held-out prompt in any training set; no input string shared between properties) is checked on
every run by `inward.experiments.hygiene` and printed with the report.
"""

from inward.experiments.controls._base import Control, self_target

__all__ = ["Control", "self_target"]
