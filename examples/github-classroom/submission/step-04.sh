# Step 4: five replicas.
kubectl scale deployment web --replicas=5
