# A submission that hangs: stopped at --step-timeout, scored 0.
sleep 600
