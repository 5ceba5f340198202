import sqlalchemy as sa

from app.constants import EMAIL_MAX, POST_TITLE_MAX, USERNAME_MAX
from app.extensions import db
from app.types import TZDateTime, utcnow


class User(db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(USERNAME_MAX), nullable=False, unique=True)
    email = db.Column(db.String(EMAIL_MAX), nullable=False, unique=True)
    # accounts imported from the old forum; they may not post
    legacy_flag = db.Column(db.Boolean, nullable=False, default=False, server_default=sa.false())
    created_at = db.Column(TZDateTime, nullable=False, default=utcnow)

    posts = db.relationship("Post", back_populates="author", lazy="select", order_by="Post.id")

    def to_dict(self):
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "legacy": self.legacy_flag,
            "created_at": self.created_at.isoformat(),
        }


class Post(db.Model):
    __tablename__ = "posts"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(POST_TITLE_MAX), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    created_at = db.Column(TZDateTime, nullable=False, default=utcnow)

    author = db.relationship("User", back_populates="posts")

    def to_dict(self):
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author_id": self.author_id,
            "created_at": self.created_at.isoformat(),
        }
