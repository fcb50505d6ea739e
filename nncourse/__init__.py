"""Course tools: release exercises from solutions, check and grade submissions with nbgrader."""
