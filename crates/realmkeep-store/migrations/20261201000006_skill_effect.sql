-- A skill's status effect is content (content/skills.json `effect`): kept beside the skill's other
-- fields. Expand-only: a new nullable column; a release without it ignores it.
ALTER TABLE skill_definitions ADD COLUMN effect jsonb;
