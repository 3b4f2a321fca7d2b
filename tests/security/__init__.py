"""One test per finding of the security review (issue 9): each failed on the code before its fix."""
