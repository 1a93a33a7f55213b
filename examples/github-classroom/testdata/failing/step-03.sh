# A submission that hangs, with a loop left in the background: stopped at
# --step-timeout (both), scored 0.
(sleep 6061 &)
sleep 6060
