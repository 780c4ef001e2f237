"""One summary of what partners said and voted: :func:`analyse_voices` for a briefing (and the
Explorer), :func:`poll_opinion` for the opinion groups of a poll, shared with the live
workshop wall (:func:`hwb_toolkit.apps.session.what_is_forming`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from hwb_toolkit.system.strategy import Strategy

#: Fewest agree/disagree voters for a poll to be analysed for opinion groups (fewer give
#: groups of one or two people, which say nothing and could identify someone).
MIN_POLL_PARTICIPANTS = 10


@dataclass(frozen=True)
class PollOpinion:
    """The opinion groups of a poll and what they agree and split on (Polis' method)."""

    found: Any  # hwb_toolkit.voices.opinion.OpinionGroups
    agree: list[str]  # statement ids most people in every group agree with
    disagree: list[str]  # statement ids most people in every group disagree with
    divisive: pd.DataFrame  # divisive_statements(): item, divisiveness, ..., most divisive first


def poll_opinion(poll_votes: pd.DataFrame, exclude: list[str] | None = None) -> PollOpinion | None:
    """Opinion groups, consensus and division of agree/disagree votes (canonical vote
    columns), leaving out the statements in ``exclude``; None until
    :data:`MIN_POLL_PARTICIPANTS` people have voted."""
    from hwb_toolkit.voices import consensus, divisive_statements, opinion_groups

    if poll_votes["participant"].nunique() < MIN_POLL_PARTICIPANTS:
        return None
    found = opinion_groups(poll_votes, exclude=exclude or None)
    agreement = consensus(poll_votes, found.groups, exclude=exclude or None)
    return PollOpinion(found, list(agreement.agree), list(agreement.disagree),
                       divisive_statements(poll_votes, found.groups, exclude=exclude or None))


# --- one area ---------------------------------------------------------------------
@dataclass
class VoicesView:
    """What partners said and voted, for one area."""

    contributions: pd.DataFrame
    themes: pd.DataFrame
    assignments: pd.DataFrame
    meta_statements: list[str]
    dot_tally: pd.DataFrame
    poll: pd.DataFrame
    statements: pd.DataFrame
    groups: pd.Series | None
    opinion: Any
    consensus_agree: list[str]
    consensus_disagree: list[str]
    representative: dict
    divisive: pd.DataFrame
    uncertain: pd.DataFrame
    balance: Any
    priorities: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.contributions.empty and self.dot_tally.empty and self.poll.empty


def analyse_voices(contributions: pd.DataFrame, votes: pd.DataFrame, strategy: Strategy) -> VoicesView:
    """Themes, dot-vote tally, poll consensus and division, and balance for one area's voices."""
    # Imported here, not with this module: the voices analyses load scikit-learn (about half
    # a second), which the indicator charts do not need, so build_briefing queues those
    # charts first and the chart process draws them while scikit-learn loads.
    from hwb_toolkit.voices import (
        find_themes,
        poll_summary,
        representative_statements,
        tally,
        uncertain_statements,
        voice_balance,
    )

    statements_mask = contributions["kind"].astype("string") == "statement"
    statements = contributions[statements_mask.fillna(False).to_numpy(bool)].reset_index(drop=True)
    said = contributions[~statements_mask.fillna(False).to_numpy(bool)].reset_index(drop=True)

    if len(said):
        # More quotes than a section shows: those from groups whose count is hidden are left out.
        themes_found = find_themes(said, strategy, n_quotes=6)
        themes, assignments = themes_found.themes, themes_found.assignments
        meta = themes_found.meta_statements
        said = themes_found.label_contributions(said)
    else:
        themes = pd.DataFrame(columns=["theme", "label", "origin", "size", "top_terms", "sectors", "quotes"])
        assignments = pd.DataFrame(columns=["contribution_id", "theme", "themes", "origin", "membership"])
        meta = []

    kinds = votes["kind"].astype("string") if len(votes) else pd.Series(dtype="string")
    dots = votes[(kinds == "dot").fillna(False).to_numpy(bool)]
    dot_tally = tally(dots, "dot") if len(dots) else pd.DataFrame(columns=["item", "voters", "score"])
    labels = {theme.id: theme.title for theme in strategy.themes}
    labels.update(dict(zip(themes["theme"], themes["label"], strict=True)))
    # An item on the vote sheet that is no theme ("housing-damp-mould") reads as words.
    dot_tally = dot_tally.assign(label=dot_tally["item"].map(
        lambda item: labels.get(item, str(item).replace("-", " ").replace("_", " ").capitalize())))
    priorities = dot_tally.assign(theme=dot_tally["item"].where(dot_tally["item"].isin(labels)))
    priorities = priorities[["item", "label", "score", "theme"]].reset_index(drop=True)

    poll_votes = votes[(kinds == "agree_disagree").fillna(False).to_numpy(bool)]
    poll = poll_summary(poll_votes) if len(poll_votes) else pd.DataFrame()
    groups = None
    found = None
    agree: list[str] = []
    disagree: list[str] = []
    representative: dict = {}
    divisive = pd.DataFrame()
    uncertain = pd.DataFrame()
    if len(poll_votes):
        exclude = list(meta)
        opinion = poll_opinion(poll_votes, exclude)
        if opinion is not None:
            found, groups = opinion.found, opinion.found.groups
            agree, disagree, divisive = opinion.agree, opinion.disagree, opinion.divisive
            representative = representative_statements(poll_votes, groups, exclude=exclude or None)
        uncertain = uncertain_statements(poll_votes, exclude=exclude or None)
    balance = voice_balance(contributions, strategy.stakeholders_frame())
    return VoicesView(
        contributions=said,
        themes=themes,
        assignments=assignments,
        meta_statements=list(meta),
        dot_tally=dot_tally,
        poll=poll,
        statements=statements,
        groups=groups,
        opinion=found,
        consensus_agree=agree,
        consensus_disagree=disagree,
        representative=representative,
        divisive=divisive,
        uncertain=uncertain,
        balance=balance,
        priorities=priorities,
    )
