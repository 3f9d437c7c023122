"""HTTP views of the authorization server: what DOT lacks, each on top of DOT's own view."""
