# Step 3: kill PID 1 in one web container; the kubelet restarts it.
kubectl exec deploy/web -- kill 1
