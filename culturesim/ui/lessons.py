"""Guided lessons for the classroom page, after NetLogo's Info tab.

Each lesson has a preset (a shipped scenario with changes), the one lever a class plays with,
the charts to watch, a prediction question asked before the run, and the four Info sections:
What is it / How it works / Things to notice / Things to try.
"""

from __future__ import annotations

from dataclasses import dataclass

from culturesim.scenario import Scenario, load_scenario

__all__ = ["LESSONS", "Lesson"]


@dataclass(frozen=True)
class Lesson:
    """A guided lesson.

    Attributes:
        key: Short identifier.
        title: Title shown to the class.
        scenario: Name of the shipped scenario the preset starts from.
        changes: Dotted-path changes applied to it (see ``Scenario.with_changes``).
        lever: The lever the class moves.
        charts: KPIs drawn big beside the network.
        color_by: What colours the network (``engagement`` or ``alignment``).
        question: The prediction question asked before the run.
        choices: Possible answers.
        what: "What is it?"
        how: "How it works"
        notice: "Things to notice"
        try_: "Things to try"
        compare: The lever's other setting the question compares the lesson's with, if it
            does ("20% ... compared with 10%"): once a run ends at another, the page asks the
            class to run that one too.
    """

    key: str
    title: str
    scenario: str
    changes: dict
    lever: str
    charts: tuple[str, ...]
    color_by: str
    question: str
    choices: tuple[str, ...]
    what: str
    how: str
    notice: str
    try_: str
    compare: float | None = None

    def preset(self) -> Scenario:
        """The lesson's scenario."""
        return load_scenario(self.scenario).with_changes(self.changes)


LESSONS = {
    lesson.key: lesson
    for lesson in [
        Lesson(
            key="twenty_percent",
            title="The 20% rule: too little or too much?",
            scenario="google_20pct",
            changes={"meta.months": 48},
            lever="innovation_time",
            charts=("ideas", "launches", "workload"),
            color_by="engagement",
            question="If engineers spend 20% of their time on their own projects, what happens "
            "to launches over four years compared with 10%?",
            choices=("More launches", "About the same", "Fewer launches"),
            what="Google's famous rule gave engineers a day a week for their own ideas. Is "
            "innovation time an investment or a cost?",
            how="Innovation time is exploration (March 1991): people test their beliefs against "
            "the market and produce ideas, but the roadmap loses delivery capacity. Ideas become "
            "launches only when there is slack left to build them. Autonomy also lifts "
            "engagement.",
            notice="Ideas rise with innovation time almost at once, and so does the workload: "
            "exploring takes delivery time. Launches need both ideas and spare capacity (the "
            "further the workload stays below 1, the more gets built), so they peak somewhere "
            "in between. Watch engagement in the network colours: more innovation time turns it "
            "bluer (autonomy), even at 0.3, where launches have all but stopped, so a happy "
            "company is no sign of a productive one. At 0.5 the workload, which is everyone's, "
            "passes 1 and within two years most of the network is red.",
            try_="Set innovation time to 0, to 0.2 and to 0.5 and Reset between runs. Where do "
            "launches peak? Is the peak at 20%?",
            compare=0.1,
        ),
        Lesson(
            key="pay_retention",
            title="Pay: does a raise keep people?",
            scenario="baseline",
            changes={"meta.months": 48},
            lever="compensation_premium",
            charts=("attrition_rate_annual", "costs", "engagement"),
            color_by="engagement",
            question="Pay rises from the market median to 10% above it. How much does "
            "attrition fall?",
            choices=("Hardly at all", "By about a quarter", "By half or more"),
            what="Pay is the lever most companies reach for first when people leave. How much "
            "retention does a raise buy, and at what price?",
            how="Each month a person's chance of quitting rises with outside offers against "
            "their pay, with low engagement and with colleagues who just left; pay also feeds "
            "engagement and trust in leadership. Field studies find that a 10% raise lowers "
            "quits by 20-30% (Naidu & Carr 2022): the model is calibrated to that.",
            notice="Attrition falls by about a quarter, while costs rise from the first month: "
            "everyone gets the raise, but only the few who would have left are kept. Over four "
            "years that is hundreds of thousands of dollars of payroll for each quit avoided.",
            try_="Set the premium to -0.1, a pay cut, and then to 0.2. Is the effect the same "
            "size both ways? Where does engagement end up?",
            compare=0.1,
        ),
        Lesson(
            key="incident_trust",
            title="Trust after an incident: does transparency help?",
            scenario="ai_incident",
            changes={"meta.months": 48},
            lever="transparency",
            charts=("user_trust", "users_active", "funding_raised"),
            color_by="engagement",
            question="At month 18 the company's AI causes a public incident. Will users' trust "
            "be back where it was a year later?",
            choices=("Yes, fully", "Partly", "No, it keeps falling"),
            what="A harmful output goes viral. Users lose trust at once; trust is slow to build "
            "and fast to fall.",
            how="Each aware user's trust moves toward a goal set by product quality and "
            "transparency: quickly when it falls, slowly when it rises, and it spreads among "
            "users who know each other. Transparency softens the drop and speeds recovery.",
            notice="The sharp drop at month 18 and the long, slow climb back. Active users keep "
            "growing, but more slowly for months: churn jumps with the drop in trust and eases "
            "only as trust comes back. Revenue falls behind, so the company runs short sooner: "
            "it raises its next funding round earlier and smaller (investors pay for growth). "
            "The network is the staff, coloured by engagement: it does not change at month 18 "
            "(the incident hits users, not the people who work there).",
            try_="Run once with transparency 0.1 and once with 0.9. How much sooner does trust "
            "recover? How much larger a round does the company raise? What does transparency "
            "cost per month? Watch the network too: at 0.9 nearly everyone ends blue, at 0.1 "
            "a quarter or so, and some are red. Staff who are kept informed trust their leaders, "
            "incident or not.",
        ),
        Lesson(
            key="culture_years",
            title="Why culture takes years",
            scenario="baseline",
            changes={
                "meta.months": 60,
                "events": [
                    {
                        "month": 12,
                        "kind": "leadership_change",
                        "values": {
                            "innovation": 0.5,
                            "collaboration": 0.9,
                            "user_focus": 0.5,
                            "openness": 0.9,
                        },
                    }
                ],
            },
            lever="hiring_selectivity",
            charts=("culture_alignment", "culture_fragmentation", "attrition_rate_annual"),
            color_by="alignment",
            question="New leaders announce new values at month 12. How long until the "
            "company lives them?",
            choices=("A few months", "About a year", "Several years"),
            what="Culture is what people do, not what leaders say. New core values must spread "
            "through managers, coworkers and new hires.",
            how="Values are pulled toward the core by managers and coworkers (Harrison & Carroll "
            "1991); the pull fades with tenure, so veterans change slowly. Coworkers influence "
            "each other only when their values are close (bounded confidence), so old and new "
            "can coexist. Turnover replaces veterans with hires screened for fit to the new "
            "values, who must still learn to live them.",
            notice="Alignment drops at month 12 when the target moves, then climbs slowly. The "
            "network turns from red through yellow to blue, team by team (a team follows its "
            "manager). New hires keep arriving red, screened for the new values but not yet "
            "living them, and turn blue within months.",
            try_="Raise hiring selectivity: does the culture shift faster? What does it cost in "
            "time to fill vacancies? (At 0.9 the first year after the change goes much as at "
            "0.5, and alignment ends a little higher, by 0.02-0.03 at month 60; vacancies take "
            "about twice as long to fill, so the company hires fewer and ends some 7% smaller.)",
        ),
        Lesson(
            key="merger_clash",
            title="A merger's culture clash",
            scenario="merger",
            changes={"meta.months": 48},
            lever="inclusion",
            charts=("culture_alignment", "culture_fragmentation", "attrition_rate_annual"),
            color_by="alignment",
            question="An acquired team with different values joins as a new site at month 24. "
            "Will the two cultures blend within two years?",
            choices=("Yes, they blend", "Partly", "No, two cultures remain"),
            what="Acquisitions bring people with their own habits. Do they adopt the "
            "acquirer's culture, or does the company split in two?",
            how="The newcomers sit at a new site; coworker influence is strongest within a team "
            "and a site and only works between people whose values are close enough. "
            "Inclusion builds ties across sites and widens that confidence.",
            notice="The new site appears as a separate cluster coloured red. Fragmentation jumps "
            "at the merger; attrition may follow. The new site stays red for about a year, then "
            "turns yellow: by month 48 most of it is yellow, some blue, some still red. Two "
            "years blend the cultures only partly, and fragmentation falls back but stays above "
            "where it was before the merger.",
            try_="Run with inclusion 0.1 and 0.9. Does the new site's colour catch up? How "
            "does fragmentation end? (At 0.9 the new site leaves red about five months sooner, "
            "more of it ends blue and fragmentation ends lower; at 0.1 hardly anyone there "
            "turns blue.) What does inclusion cost per month?",
        ),
    ]
}
