from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    mailings_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "company",
            "is_verified",
            "is_blocked",
            "blocked_at",
            "blocked_reason",
            "date_joined",
            "mailings_count",
        ]
        read_only_fields = fields
