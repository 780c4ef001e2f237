"""File readers and writers: every byte that enters or leaves the toolkit passes through here."""
