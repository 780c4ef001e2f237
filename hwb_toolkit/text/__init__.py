"""Words for people: numbers formatted as a board member reads them (:mod:`.numbers`),
indicator names with who they are about (:mod:`.labels`), sentences (:mod:`.sentences`),
quotes (:mod:`.quotes`), the Jinja templates every page is rendered from
(:mod:`.templates`) and the check that only trusted markup reaches a page
(:mod:`.safe_markup`)."""
