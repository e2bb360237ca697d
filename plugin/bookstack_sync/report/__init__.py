"""What a run leaves behind: the report files, the live log, the pull-request comment."""
